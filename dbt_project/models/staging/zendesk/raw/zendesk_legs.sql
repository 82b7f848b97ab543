{#- Every landed zendesk `legs` record (all days, all connections), verbatim. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_source('zendesk', 'legs', windowed=false) }}
