{{ config(enabled=var('sequin_v1_enabled', true)) }}
select
    s.id,
    s.name,
    s.provider,
    s.health_status,
    array_to_string(s.health_notes, ' | ') as reasons,
    coalesce(c.health_status, s.health_credential_status) as credential_health,
    array_to_string(c.health_notes, ' | ') as credential_notes
from {{ ref('stg_sequin__syncs') }} as s
left join {{ ref('stg_sequin__credentials') }} as c
       on c.id = s.credential_id and not c.is_deleted
where not s.is_deleted
  and s.is_unhealthy
