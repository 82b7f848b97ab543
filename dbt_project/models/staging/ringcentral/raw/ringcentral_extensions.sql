{#- Every landed ringcentral `extensions` directory snapshot (all snapshots, all connections), verbatim, with `snapshot_at`. -#}
{{ config(schema='raw', tags=['unpartitioned']) }}
select * from {{ landing_snapshots('ringcentral', 'extensions') }}
