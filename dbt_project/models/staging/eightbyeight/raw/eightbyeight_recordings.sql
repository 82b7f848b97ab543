{#- Every landed eightbyeight `recordings` record (all days, all connections), verbatim. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_source('eightbyeight', 'recordings', windowed=false) }}
