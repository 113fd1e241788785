-- Each customer's valid purchases are numbered 1 … n without gap or repeat, in purchase time, and exactly the
-- last of them is the latest purchase. A row is a customer whose numbering breaks one of these.
with

valid_purchases as (

    select
        customer_unique_id,
        purchased_at,
        purchase_number,
        is_latest_purchase
    from {{ ref('fct_orders') }}
    where is_valid_purchase = 1

),

customers as (

    select
        customer_unique_id,
        count(*) as purchases,
        count(distinct purchase_number) as distinct_numbers,
        min(purchase_number) as first_number,
        max(purchase_number) as last_number,
        sum(is_latest_purchase) as latest_purchases,
        max(case when is_latest_purchase = 1 then purchase_number end) as latest_number,
        max(purchased_at) as last_purchased_at,
        max(case when is_latest_purchase = 1 then purchased_at end) as latest_purchased_at
    from valid_purchases
    group by customer_unique_id

),

out_of_order as (

    select distinct later.customer_unique_id
    from valid_purchases as later
    inner join valid_purchases as earlier
        on
            later.customer_unique_id = earlier.customer_unique_id
            and later.purchase_number = earlier.purchase_number + 1
    where later.purchased_at < earlier.purchased_at

)

select
    customers.customer_unique_id,
    customers.purchases,
    customers.first_number,
    customers.last_number,
    customers.latest_purchases
from customers
where
    customers.distinct_numbers <> customers.purchases
    or customers.first_number <> 1
    or customers.last_number <> customers.purchases
    or customers.latest_purchases <> 1
    or customers.latest_number <> customers.last_number
    or customers.latest_purchased_at <> customers.last_purchased_at
    or customers.customer_unique_id in (select out_of_order.customer_unique_id from out_of_order)
