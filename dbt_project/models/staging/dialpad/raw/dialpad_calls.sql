{#- Every landed dialpad `calls` record (all days, all connections), verbatim. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_source('dialpad', 'calls', windowed=false) }}
