{#- Every landed ringcentral `call_log` record (all days, all connections), verbatim. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_source('ringcentral', 'call_log', windowed=false) }}
