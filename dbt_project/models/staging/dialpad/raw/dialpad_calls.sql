{#- Every landed dialpad `calls` record (all days, all connections), verbatim. -#}
select * from {{ landing_source('dialpad', 'calls', windowed=false) }}
