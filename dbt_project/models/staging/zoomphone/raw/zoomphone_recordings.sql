{#- Every landed zoomphone `recordings` record (all days, all connections), verbatim. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_source('zoomphone', 'recordings', windowed=false) }}
