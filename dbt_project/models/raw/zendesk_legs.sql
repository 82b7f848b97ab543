{#- Every landed zendesk `legs` record (all days, all connections), verbatim. -#}
select * from {{ landing_source('zendesk', 'legs', windowed=false) }}
