"""The small admin kit every app's admin is built from.

- `history`: edits that say why (the reason is kept in simple-history with the user);
- `readonly`: admins and inlines for rows only the system writes (results, audit rows);
- `actions`: a list action that asks for confirmation and a reason, then applies one service
  function to each selected row, reporting every refusal.

A library below every app (no models, no app config), so trusts, metrics, releases and
interventions can all use it without breaking the layers.
"""
