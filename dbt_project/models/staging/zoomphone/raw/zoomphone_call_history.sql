{#- Every landed zoomphone `call_history` record (all days, all connections), verbatim. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_source('zoomphone', 'call_history', windowed=false) }}
