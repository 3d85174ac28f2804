"""The store REST API (/api/v1/): thin views over the order, shipment and stock services."""
from django.db import transaction
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, pagination
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from catalog.services import StockError, stock_restock, stock_set
from orders.models import ORDER_TRANSITIONS, Order, Shipment
from orders.services import TrackingUpdate, TransitionNotAllowed, order_transition, shipment_create, \
    shipment_record_tracking

from . import selectors, serializers as s
from .idempotency import idempotent
from .problems import Conflict, problem_responses


class OrderCursor(pagination.CursorPagination):
    ordering = ("-placed_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class ProductCursor(OrderCursor):
    ordering = ("id",)


def _actor(request) -> str:
    return f"API key {request.auth.name}"


class StoreApiView(APIView):
    def store(self):
        return self.request.auth.store


def _order(view, number) -> Order:
    try:
        return selectors.api_order(store=view.store(), number=number)
    except Order.DoesNotExist:
        from rest_framework.exceptions import NotFound

        raise NotFound(f"No order {number} in this store.") from None


OWN_FLEET = "fleet"
READ_PROBLEMS = problem_responses(401, 404, 429)
WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 415, 422, 429)
IDEMPOTENCY = OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                               description="Send the same key to retry a POST safely: it runs once.")
NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Order number, NS-XXXX-XXXX")


class OrderList(generics.ListAPIView):
    serializer_class = s.OrderSummarySerializer
    pagination_class = OrderCursor

    def get_queryset(self):
        filters = s.OrderFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.api_orders(store=self.request.auth.store, **filters.validated_data)

    @extend_schema(operation_id="orders_list", parameters=[s.OrderFilterSerializer],
                   responses={200: s.OrderSummarySerializer(many=True), **problem_responses(400, 401, 404, 429)},
                   description="The store's orders, newest first, with cursor pagination (`next` / `previous`).")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrderDetail(StoreApiView):
    @extend_schema(operation_id="orders_retrieve", parameters=[NUMBER],
                   responses={200: s.OrderDetailSerializer, **READ_PROBLEMS},
                   description="One order with its lines, payments, shipments (and checkpoints) and timeline.")
    def get(self, request, number):
        return Response(s.OrderDetailSerializer(_order(self, number)).data)


class OrderStatusChange(StoreApiView):
    @extend_schema(operation_id="orders_status_change", parameters=[NUMBER, IDEMPOTENCY],
                   request=s.StatusChangeSerializer, responses={200: s.OrderDetailSerializer, **WRITE_PROBLEMS},
                   description="Move the order through the transition table. A forbidden move is a 409 whose "
                               "`allowed` lists the moves that are possible now.")
    @idempotent
    def post(self, request, number):
        order = _order(self, number)
        data = s.StatusChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            order_transition(order=order, to=data.validated_data["status"], actor=_actor(request),
                             note=data.validated_data["note"])
        except TransitionNotAllowed as exc:
            raise Conflict(str(exc), slug="transition-not-allowed", current=exc.current,
                           allowed=sorted(ORDER_TRANSITIONS.get(exc.current, ()))) from None
        return Response(s.OrderDetailSerializer(_order(self, number)).data)


class ShipmentCreate(StoreApiView):
    @extend_schema(operation_id="orders_shipments_create", parameters=[NUMBER, IDEMPOTENCY],
                   request=s.ShipmentCreateSerializer, responses={201: s.ShipmentSerializer, **WRITE_PROBLEMS},
                   description="Ship the order with a carrier and tracking number (the order becomes shipped and "
                               "the customer is told).")
    @idempotent
    def post(self, request, number):
        order = _order(self, number)
        data = s.ShipmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if Shipment.objects.filter(carrier=v["carrier"], tracking_number=v["tracking_number"].strip()).exists():
            raise Conflict("A shipment with this carrier and tracking number already exists.",
                           slug="duplicate-tracking-number")
        try:
            shipment = shipment_create(order=order, carrier=v["carrier"], tracking_number=v["tracking_number"],
                                       carrier_name=v["carrier_name"], tracking_url=v["tracking_url"], eta=v["eta"],
                                       actor=_actor(request))
        except TransitionNotAllowed as exc:
            raise Conflict(str(exc), slug="transition-not-allowed", current=exc.current,
                           allowed=sorted(ORDER_TRANSITIONS.get(exc.current, ()))) from None
        return Response(s.ShipmentSerializer(shipment).data, status=201)


class ShipmentCheckpoints(StoreApiView):
    @extend_schema(operation_id="shipments_checkpoints_create", parameters=[IDEMPOTENCY],
                   request=s.CheckpointCreateSerializer,
                   responses={201: s.CheckpointResultSerializer, 200: s.CheckpointResultSerializer, **WRITE_PROBLEMS},
                   description="A tracking checkpoint from the store's own delivery fleet (a shipment created "
                               "with carrier `fleet`; others are a 409). Stored once per `id`; "
                               "only the newest checkpoint moves the shipment, and only forward (201 stored, "
                               "200 already had it).")
    @idempotent
    def post(self, request, shipment_id):
        try:
            shipment = selectors.api_shipment(store=self.store(), shipment_id=shipment_id)
        except Shipment.DoesNotExist:
            from rest_framework.exceptions import NotFound

            raise NotFound(f"No shipment {shipment_id} in this store.") from None
        data = s.CheckpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if shipment.carrier != OWN_FLEET:
            raise Conflict(f"Shipment {shipment.pk} is tracked by {shipment.carrier_name or shipment.carrier}; "
                           f"checkpoints can be posted only for shipments with carrier “{OWN_FLEET}” "
                           "(your own delivery fleet).", slug="not-own-fleet")
        v = data.validated_data
        update = TrackingUpdate(dedupe_key=f"api:{v['id']}", status=v["status"], occurred_at=v["occurred_at"],
                                message=v["message"], location=v["location"], eta=v["eta"],
                                raw={"source": "api", "key": request.auth.prefix})
        stored = shipment_record_tracking(shipment=shipment, update=update, source="api")
        shipment = Shipment.objects.prefetch_related("tracking_events").get(pk=shipment.pk)
        return Response({"stored": stored is not None, "shipment": s.ShipmentSerializer(shipment).data},
                        status=201 if stored is not None else 200)


class OrderNotifications(StoreApiView):
    @extend_schema(operation_id="orders_notifications_list", parameters=[NUMBER],
                   responses={200: s.NotificationSerializer(many=True), **READ_PROBLEMS},
                   description="Every notification of the order (customer and seller) with its delivery status.")
    def get(self, request, number):
        order = _order(self, number)
        return Response(s.NotificationSerializer(selectors.api_order_notifications(order=order), many=True).data)


class ProductList(generics.ListAPIView):
    serializer_class = s.ProductSerializer
    pagination_class = ProductCursor

    def get_queryset(self):
        return selectors.api_products(store=self.request.auth.store)

    @extend_schema(operation_id="products_list", responses={200: s.ProductSerializer(many=True),
                                                            **problem_responses(401, 404, 429)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _product(view, product_id) -> Product:
    try:
        return selectors.api_product(store=view.store(), product_id=product_id)
    except Product.DoesNotExist:
        from rest_framework.exceptions import NotFound

        raise NotFound(f"No product {product_id} in this store.") from None


class ProductDetail(StoreApiView):
    @extend_schema(operation_id="products_retrieve", responses={200: s.ProductSerializer, **READ_PROBLEMS})
    def get(self, request, product_id):
        return Response(s.ProductSerializer(_product(self, product_id)).data)


class ProductStock(StoreApiView):
    @extend_schema(operation_id="products_stock_set", parameters=[IDEMPOTENCY], request=s.StockSetSerializer,
                   responses={200: s.ProductSerializer, **WRITE_PROBLEMS},
                   description="Set the counted stock on hand (a stock take). Below zero only with backorders on.")
    @idempotent
    def post(self, request, product_id):
        product = _product(self, product_id)
        data = s.StockSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            product = stock_set(product=product, stock_on_hand=data.validated_data["stock_on_hand"],
                                actor=_actor(request))
        except StockError as exc:
            raise Conflict(str(exc), slug="stock") from None
        return Response(s.ProductSerializer(product).data)


class ProductRestock(StoreApiView):
    @extend_schema(operation_id="products_restock", parameters=[IDEMPOTENCY], request=s.RestockSerializer,
                   responses={200: s.ProductSerializer, **WRITE_PROBLEMS},
                   description="A delivery arrived: add `quantity` units (customers waiting for it are told).")
    @idempotent
    def post(self, request, product_id):
        product = _product(self, product_id)
        data = s.RestockSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            product = stock_restock(product=product, quantity=data.validated_data["quantity"], actor=_actor(request))
        return Response(s.ProductSerializer(product).data)


@csrf_exempt  # nothing is changed here; API clients send no CSRF token
def not_found(request, *args, **kwargs):
    from django.http import JsonResponse

    from .problems import PROBLEM_CONTENT_TYPE, problem_type

    return JsonResponse({"type": problem_type("not-found"), "title": "Not found", "status": 404,
                         "detail": f"No API endpoint at {request.path}."}, status=404,
                        content_type=PROBLEM_CONTENT_TYPE)
