"""The storefront's own cart and checkout: the traditional path (the control arm of the A/B experiment).

A signed-in customer adds products to a cart (kept in their browser session), opens `/shop/checkout/`,
picks a saved address or types one, picks a saved card or enters a sandbox test card, and places the
order. The page is a client of the merchant's checkout API over HTTP like any shop frontend: it
creates, updates and completes an ACP checkout session through catalog_adapters, the same client the
assistant uses, so prices, tax and shipping are always the merchant's. Funnel events for the A/B
report are recorded in the customer's own arm with channel "storefront" (ordering.rollout.events).

- `cart`: the cart in the session; `selectors`: reads (cart lines, checkout rows);
- `services`: the checkout (open, sync with the merchant, place) and the test-card vault entry;
- `views`, `forms`, `urls`: thin pages under `/shop/`.
"""
