"""The seller's order and return actions. Each one calls a service; a refusal is shown, not swallowed."""
from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from orders.models import OrderStatus, ReturnRequest
from orders.services import (
    TransitionNotAllowed,
    order_mark_backordered,
    order_transition,
    return_set_status,
    shipment_create,
)

from ..access import seller_required
from ..forms import BackorderForm, CancelForm, HoldForm, ReasonForm, ShipForm
from ..services import (
    ActionNotPossible,
    order_cancel,
    order_confirm,
    order_refund,
    payment_mark_received,
    return_refund,
    shipment_mark_delivered,
)
from .orders import get_store_order, render_detail


class FormInvalid(Exception):
    def __init__(self, form):
        self.form = form


def _valid(form):
    if not form.is_valid():
        raise FormInvalid(form)
    return form.cleaned_data


def _process(request, order):
    was = order.status
    order_confirm(order=order, actor=request.user, override_reason=request.POST.get("override_reason", ""))
    return "Hold released: the order is processing again." if was == OrderStatus.ON_HOLD \
        else "Order confirmed and marked processing."


def _mark_paid(request, order):
    payment_mark_received(order=order, actor=request.user)
    return "Payment recorded as received."


def _hold(request, order):
    data = _valid(HoldForm(request.POST, prefix="hold"))
    order_transition(order=order, to=OrderStatus.ON_HOLD, actor=request.user, note=data["reason"])
    return "Order put on hold. The customer has been told why."


def _ship(request, order):
    form = ShipForm(request.POST, prefix="ship")
    data = _valid(form)
    try:
        shipment = shipment_create(order=order, carrier=data["carrier"], carrier_name=form.carrier_name,
                                   tracking_number=data["tracking_number"], eta=data["eta"], actor=request.user)
    except IntegrityError:
        form.add_error("tracking_number", "This tracking number is already used by another shipment.")
        raise FormInvalid(form) from None
    return f"Shipped with {shipment.carrier_name}, tracking {shipment.tracking_number}."


def _deliver(request, order):
    shipment_mark_delivered(order=order, actor=request.user)
    return "Marked delivered: the order is completed."


def _backorder(request, order):
    data = _valid(BackorderForm(request.POST, prefix="backorder"))
    order_mark_backordered(order=order, expected=data["expected"], actor=request.user, note=data["note"])
    return f"Marked backordered, now expected on {data['expected']:%d %b %Y}."


def _cancel(request, order):
    data = _valid(CancelForm(request.POST, prefix="cancel"))
    order_cancel(order=order, actor=request.user, reason=data["reason"])
    return "Order cancelled. Any captured payment has been refunded."


def _refund(request, order):
    order_refund(order=order, actor=request.user, reason=request.POST.get("reason", "").strip()[:200])
    return "Order refunded."


ORDER_ACTIONS = {
    "process": _process,
    "mark_paid": _mark_paid,
    "hold": _hold,
    "ship": _ship,
    "deliver": _deliver,
    "backorder": _backorder,
    "cancel": _cancel,
    "refund": _refund,
}


def _run(request, order, action, fn):
    try:
        message = fn()
    except FormInvalid as exc:
        errors = " ".join(str(e) for field_errors in exc.form.errors.values() for e in field_errors)
        return render_detail(request, order, status=422, forms={action: exc.form}, open_form=action,
                             action_error=errors or "Please correct the highlighted field.")
    except (TransitionNotAllowed, ActionNotPossible, ValueError) as exc:
        return render_detail(request, get_store_order(request, order.number), status=422,
                             action_error=str(exc))
    messages.success(request, message)
    return redirect("seller:order_detail", order.number)


@require_POST
@seller_required
def order_action(request, number, action):
    fn = ORDER_ACTIONS.get(action)
    if fn is None:
        raise Http404("Unknown action.")
    order = get_store_order(request, number)
    return _run(request, order, action, lambda: fn(request, order))


RETURN_MESSAGES = {
    ReturnRequest.Status.APPROVED: "Return approved. The customer has the return instructions.",
    ReturnRequest.Status.RECEIVED: "Return marked received.",
    ReturnRequest.Status.REFUNDED: "Return refunded through the payment gateway; the items are back in stock.",
    ReturnRequest.Status.REJECTED: "Return rejected. The customer has been told why.",
}


@require_POST
@seller_required
def return_action(request, number, return_number, to):
    if to not in RETURN_MESSAGES:
        raise Http404("Unknown return action.")
    order = get_store_order(request, number)
    return_request = next((r for r in order.returns.all() if r.number == return_number), None)
    if return_request is None:
        raise Http404("No such return on this order.")

    def run():
        note = ""
        if to == ReturnRequest.Status.REJECTED:
            note = _valid(ReasonForm(request.POST, prefix=f"reject-{return_request.pk}"))["reason"]
        if to == ReturnRequest.Status.REFUNDED:
            return_refund(return_request=return_request, actor=request.user)
        else:
            return_set_status(return_request=return_request, to=to, actor=request.user, note=note)
        return RETURN_MESSAGES[to]

    return _run(request, order, f"reject-{return_request.pk}", run)
