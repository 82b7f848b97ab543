{#- Every landed eightbyeight `recording_objects` record (Cloud Storage objects; all days, all connections), verbatim. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_source('eightbyeight', 'recording_objects', windowed=false) }}
