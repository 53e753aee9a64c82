{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
-- Every slot of every live database that is not active, and a live database with no slot.
select
    d.id,
    d.name,
    d.hostname,
    d.database,
    d.is_replica,
    slot.item ->> 'slot_name' as slot_name,
    slot.item ->> 'publication_name' as publication_name,
    slot.item ->> 'status' as slot_status
from {{ ref('stg_sequin__postgres_databases') }} as d
left join lateral jsonb_array_elements(coalesce(d.replication_slots, '[]'::jsonb))
    as slot(item) on true
where not d.is_deleted
  and (slot.item is null or coalesce(slot.item ->> 'status', '') <> 'active')
