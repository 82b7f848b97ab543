{#- Every landed eightbyeight `recordings` record (all days, all connections), verbatim. -#}
select * from {{ landing_source('eightbyeight', 'recordings', windowed=false) }}
