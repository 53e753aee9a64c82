{#- Generic data tests of this package (dbt hub packages such as dbt_utils are not needed). -#}

{% test sequin_unique_combination(model, columns) %}
    {#- No two rows share the values of `columns` (a primary key of several columns). -#}
    select {{ columns | join(', ') }}, count(*) as rows_with_this_key
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}


{% test sequin_no_overlap(model, partition_by, started_at, ended_at) %}
    {#- Within one `partition_by` value, no two [started_at, ended_at) stretches overlap;
        a null end means still going on. Returns both rows of each overlapping pair. -#}
    select a.{{ partition_by }}, a.{{ started_at }} as started_at, b.{{ started_at }} as overlaps_one_started_at
    from {{ model }} as a
    join {{ model }} as b
      on b.{{ partition_by }} = a.{{ partition_by }}
     and b.{{ started_at }} > a.{{ started_at }}
     and b.{{ started_at }} < coalesce(a.{{ ended_at }}, 'infinity')
{% endtest %}
