{#- Every landed aircall `calls` record (all days, all connections), verbatim. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_source('aircall', 'calls', windowed=false) }}
