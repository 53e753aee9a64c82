{{ config(enabled=var('sequin_v1_enabled', true)) }}
select collection_id, count(*) as syncs
from {{ ref('stg_sequin__syncs') }}, unnest(collection_ids) as collection_id
where not is_deleted
group by collection_id
