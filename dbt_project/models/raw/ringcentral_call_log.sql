{#- Every landed ringcentral `call_log` record (all days, all connections), verbatim. -#}
select * from {{ landing_source('ringcentral', 'call_log', windowed=false) }}
