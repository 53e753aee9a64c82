{{ config(enabled=var('sequin_v1_enabled', true)) }}
{%- set types = sequin_column_types(source('sequin', 'credentials')) -%}
select
    id,
    kind,
    provider,
    oauth_app_id,
    {{ sequin_object('properties') }} as properties,
    {{ sequin_object('oauth_app') }} as oauth_app,
    {{ sequin_object('metadata') }} as metadata,
    health_status,
    health_notes,
    {{ sequin_instant('health_checked_at', types) }} as health_checked_at,
    {{ sequin_object('health') }} as health,
    {{ sequin_instant('created_at', types) }} as created_at,
    {{ sequin_instant('updated_at', types) }} as updated_at,
    {{ sequin_is_unhealthy('health_status') }} as is_unhealthy,
    {{ sequin_instant('_sdc_extracted_at', types) }} as extracted_at,
    {{ sequin_instant('_sdc_deleted_at', types) }} as deleted_at,
    _sdc_deleted_at is not null as is_deleted
from {{ source('sequin', 'credentials') }}
