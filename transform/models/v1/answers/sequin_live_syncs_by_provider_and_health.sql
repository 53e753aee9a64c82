{{ config(enabled=var('sequin_v1_enabled', true)) }}
select
    provider,
    coalesce(health_status, 'unknown') as health_status,
    count(*) as syncs
from {{ ref('stg_sequin__syncs') }}
where not is_deleted
group by 1, 2
