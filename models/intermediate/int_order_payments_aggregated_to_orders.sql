{#- Payments rolled up to one row per order, before any join (an order can be paid in several parts). -#}
with

order_payments as (

    select * from {{ ref('stg_olist__order_payments') }}

),

aggregated as (

    select
        order_id,
        count(*) as payment_count,
        sum(payment_value) as paid_amount,
        sum(case when payment_type = 'voucher' then payment_value else 0 end) as voucher_amount,
        max(payment_installments) as max_installments,
        group_concat(distinct payment_type order by payment_type separator ',') as payment_types
    from order_payments
    group by order_id

)

select * from aggregated
-- in key order: the joins that read this table by key then read its pages in sequence
order by order_id
