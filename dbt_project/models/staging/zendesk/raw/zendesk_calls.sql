{#- Every landed zendesk `calls` record (all days, all connections), verbatim. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_source('zendesk', 'calls', windowed=false) }}
