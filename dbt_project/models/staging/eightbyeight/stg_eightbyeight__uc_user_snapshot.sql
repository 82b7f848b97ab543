{#- 8x8 VCC: no agent directory is extracted (the Recordings API this project reads names agents by their
    `agentID` login only), so there are no user snapshots; coverage in seeds/coverage. -#}
{{ config(materialized='ephemeral') }}
{{ uc_no_rows('uc_user_snapshot', 'eightbyeight') }}
