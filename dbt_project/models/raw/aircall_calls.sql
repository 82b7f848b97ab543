{#- Every landed aircall `calls` record (all days, all connections), verbatim. -#}
select * from {{ landing_source('aircall', 'calls', windowed=false) }}
