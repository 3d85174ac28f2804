"""The shopping cart lives in the session as {product id (str): quantity}."""
from orders.checkout import MAX_QUANTITY_PER_LINE

SESSION_KEY = "cart"
PROMO_KEY = "promo_code"  # one promotion code per checkout (marketing.Promotion.code)


class Cart:
    def __init__(self, session):
        self.session = session

    def items(self) -> dict[int, int]:
        items = {}
        for key, qty in (self.session.get(SESSION_KEY) or {}).items():
            try:
                pid, qty = int(key), int(qty)
            except (TypeError, ValueError):
                continue
            if qty > 0:
                items[pid] = min(qty, MAX_QUANTITY_PER_LINE)
        return items

    def quantity_of(self, product_id: int) -> int:
        return self.items().get(product_id, 0)

    def set(self, product_id: int, quantity: int) -> None:
        items = self.items()
        if quantity <= 0:
            items.pop(product_id, None)
        else:
            items[product_id] = min(quantity, MAX_QUANTITY_PER_LINE)
        self._save(items)

    def remove(self, product_id: int) -> None:
        self.set(product_id, 0)

    def drop(self, product_ids) -> None:
        items = self.items()
        for pid in product_ids:
            items.pop(pid, None)
        self._save(items)

    def clear(self) -> None:
        self._save({})
        self.set_promo_code("")

    @property
    def promo_code(self) -> str:
        return str(self.session.get(PROMO_KEY) or "")

    def set_promo_code(self, code: str) -> None:
        if code:
            self.session[PROMO_KEY] = code[:32]
        else:
            self.session.pop(PROMO_KEY, None)
        self.session.modified = True

    def _save(self, items: dict[int, int]) -> None:
        self.session[SESSION_KEY] = {str(pid): qty for pid, qty in items.items()}
        self.session.modified = True
