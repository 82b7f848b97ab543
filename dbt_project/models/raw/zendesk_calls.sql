{#- Every landed zendesk `calls` record (all days, all connections), verbatim. -#}
select * from {{ landing_source('zendesk', 'calls', windowed=false) }}
