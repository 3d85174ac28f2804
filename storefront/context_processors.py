def cart(request):
    items = request.session.get("cart", {}) if hasattr(request, "session") else {}
    return {"cart_count": sum(int(q) for q in items.values())}
