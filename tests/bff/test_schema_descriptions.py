"""Every type, field, argument, input field and enum value of the schema is described (the
descriptions are what GraphiQL's docs show: formats of money and dates, what statuses mean)."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)

from bff.schema import build_schema
from bff.settings import BffSettings

_BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def _schema() -> GraphQLSchema:
    settings = BffSettings(service_token="descriptions", app_env="development")
    schema: GraphQLSchema = build_schema(settings)._schema
    return schema


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Where a description is missing, as `Type`, `Type.field`, `Type.field(arg)`."""
    missing = []
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in _BUILT_IN_SCALARS:
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLObjectType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg_name})"
                    for arg_name, arg in field.args.items()
                    if not arg.description
                ]
        elif isinstance(named, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, field in named.fields.items() if not field.description]
        elif isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not value.description]
        elif not isinstance(named, GraphQLScalarType):
            missing.append(f"{name} (a kind this test does not know)")
    return missing


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    assert undescribed(_schema()) == []


def test_the_check_finds_a_missing_description() -> None:
    schema = _schema()
    order = schema.type_map["Order"]
    assert isinstance(order, GraphQLObjectType)
    order.fields["total"].description = None
    status = schema.type_map["OrderStatus"]
    assert isinstance(status, GraphQLEnumType)
    status.values["DRAFT"].description = ""
    assert undescribed(schema) == ["Order.total", "OrderStatus.DRAFT"]


def test_closed_values_are_enums() -> None:
    schema = _schema()
    for type_name, field_name, enum_name in [
        ("Order", "currency", "Currency"),
        ("Invoice", "currency", "Currency"),
        ("OrderInput", "currency", "Currency"),
        ("Order", "status", "OrderStatus"),
        ("Invoice", "status", "InvoiceStatus"),
    ]:
        named = schema.type_map[type_name]
        assert isinstance(named, GraphQLObjectType | GraphQLInputObjectType)
        assert str(named.fields[field_name].type).rstrip("!") == enum_name
    query = schema.type_map["Query"]
    assert isinstance(query, GraphQLObjectType)
    assert str(query.fields["orders"].args["sort"].type) == "OrderSort!"
    assert str(query.fields["invoices"].args["direction"].type) == "SortDirection!"
    currency = schema.type_map["Currency"]
    assert isinstance(currency, GraphQLEnumType)
    assert currency.values["JPY"].description == "Yen: amounts have no decimal places."
    assert currency.values["KWD"].description == "Kuwaiti Dinar: amounts have 3 decimal places."
