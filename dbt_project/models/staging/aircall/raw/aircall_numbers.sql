{#- Every landed aircall `numbers` directory snapshot (all snapshots, all connections), verbatim, with `snapshot_at`. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_snapshots('aircall', 'numbers') }}
