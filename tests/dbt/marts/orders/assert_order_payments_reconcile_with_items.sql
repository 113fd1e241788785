{{ config(severity='warn') }}

{#-
    Warn-only: valid orders whose payments differ from price + freight by more than a cent. The real data has
    such orders (interest on installments, vouchers, rounding), so this reports rather than fails; a sudden
    jump in the count points at a loading problem.
-#}
select
    order_id,
    order_status,
    paid_amount,
    gmv,
    paid_amount - gmv as difference,
    payment_types,
    max_installments
from {{ ref('fct_orders') }}
where
    is_valid_purchase = 1
    and payment_count > 0
    and item_count > 0
    and abs(paid_amount - gmv) > 0.01
