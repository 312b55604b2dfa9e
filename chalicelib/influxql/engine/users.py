"""User statements (CREATE/DROP USER, SET PASSWORD, GRANT/REVOKE, SHOW USERS/GRANTS), executed over
the org's legacy (v1) authorizations (`tenancy.v1users`), answered as influxd 1.6.7 answers them."""

from __future__ import annotations

from chalicelib.influxql import ast
from chalicelib.influxql.engine.context import Context, Series


def show_users(_statement: ast.ShowUsersStatement, context: Context) -> list[Series]:
    users = context.catalog.users.list(context.principal)
    series: Series = {"columns": ["user", "admin"]}
    if users:
        series["values"] = [[user.name, user.admin] for user in users]
    return [series]


def show_grants(statement: ast.ShowGrantsForUserStatement, context: Context) -> list[Series]:
    grants = context.catalog.users.grants(context.principal, statement.name)
    series: Series = {"columns": ["database", "privilege"]}
    if grants:
        series["values"] = [[database, privilege] for database, privilege in grants]
    return [series]


def create_user(statement: ast.CreateUserStatement, context: Context) -> list[Series]:
    context.catalog.users.create(context.principal, statement.name, statement.password, statement.admin)
    return []


def drop_user(statement: ast.DropUserStatement, context: Context) -> list[Series]:
    context.catalog.users.drop(context.principal, statement.name)
    return []


def set_password(statement: ast.SetPasswordUserStatement, context: Context) -> list[Series]:
    context.catalog.users.set_password(context.principal, statement.name, statement.password)
    return []


def grant(statement: ast.GrantStatement, context: Context) -> list[Series]:
    context.catalog.users.grant(context.principal, statement.user, statement.privilege, statement.on)
    return []


def revoke(statement: ast.RevokeStatement, context: Context) -> list[Series]:
    context.catalog.users.revoke(context.principal, statement.user, statement.privilege, statement.on)
    return []


def grant_admin(statement: ast.GrantAdminStatement, context: Context) -> list[Series]:
    context.catalog.users.set_admin(context.principal, statement.user, admin=True)
    return []


def revoke_admin(statement: ast.RevokeAdminStatement, context: Context) -> list[Series]:
    context.catalog.users.set_admin(context.principal, statement.user, admin=False)
    return []
