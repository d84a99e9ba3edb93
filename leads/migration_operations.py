from django.db.migrations.operations import AddIndex, RemoveIndex
from django.db.migrations.operations.base import Operation


class AddIndexConcurrentlyOnPostgres(AddIndex):
    """AddIndex that builds with CREATE INDEX CONCURRENTLY on PostgreSQL, so a
    live lead table keeps taking writes while the index builds, and with a
    plain CREATE INDEX elsewhere (SQLite has no concurrent builds).

    The migration using it must set ``atomic = False``: PostgreSQL refuses a
    concurrent build inside a transaction.
    """

    def _concurrently(self, schema_editor):
        return schema_editor.connection.vendor == "postgresql"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if self._concurrently(schema_editor):
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if self._concurrently(schema_editor):
            schema_editor.remove_index(model, self.index, concurrently=True)
        else:
            schema_editor.remove_index(model, self.index)


class RemoveIndexConcurrentlyOnPostgres(RemoveIndex):
    """RemoveIndex with DROP INDEX CONCURRENTLY on PostgreSQL (readers and
    writers of a live table never wait on it), a plain DROP INDEX elsewhere.
    The migration using it must set ``atomic = False``."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
        concurrently = schema_editor.connection.vendor == "postgresql"
        schema_editor.remove_index(model, index, **({"concurrently": True} if concurrently else {}))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
        concurrently = schema_editor.connection.vendor == "postgresql"
        schema_editor.add_index(model, index, **({"concurrently": True} if concurrently else {}))


class SetCheckConstraint(Operation):
    """Add a CHECK constraint, or replace the one of the same name, without
    holding a live table's lock while every row is checked.

    On PostgreSQL the constraint goes in NOT VALID (one ALTER TABLE that
    drops any old one: a brief lock, no scan, and new rows are checked from
    then on), then VALIDATE CONSTRAINT checks the existing rows while reads
    and writes go on. That needs its own transaction: the migration using it
    must set ``atomic = False``. Elsewhere (SQLite) it is RemoveConstraint +
    AddConstraint.
    """

    reversible = True

    def __init__(self, model_name, constraint):
        self.model_name = model_name
        self.constraint = constraint

    def deconstruct(self):
        return self.__class__.__name__, [], {
            "model_name": self.model_name, "constraint": self.constraint,
        }

    @property
    def model_name_lower(self):
        return self.model_name.lower()

    def describe(self):
        return f"Set check constraint {self.constraint.name} on model {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name_lower}_{self.constraint.name.lower()}"

    def state_forwards(self, app_label, state):
        model_state = state.models[app_label, self.model_name_lower]
        if any(c.name == self.constraint.name for c in model_state.options["constraints"]):
            state.remove_constraint(app_label, self.model_name_lower, self.constraint.name)
        state.add_constraint(app_label, self.model_name_lower, self.constraint)

    @staticmethod
    def _named(state, app_label, model_name, name):
        model_state = state.models[app_label, model_name]
        return next((c for c in model_state.options["constraints"] if c.name == name), None)

    def _switch(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        name = self.constraint.name
        old = self._named(from_state, app_label, self.model_name_lower, name)
        new = self._named(to_state, app_label, self.model_name_lower, name)
        if schema_editor.connection.vendor != "postgresql":
            if old is not None:
                schema_editor.remove_constraint(model, old)
            if new is not None:
                schema_editor.add_constraint(model, new)
            return
        table = schema_editor.quote_name(model._meta.db_table)
        quoted = schema_editor.quote_name(name)
        changes = [f"DROP CONSTRAINT {quoted}"] if old is not None else []
        if new is not None:
            # constraint_sql() is "CONSTRAINT <name> CHECK (...)".
            changes.append(f"ADD {new.constraint_sql(model, schema_editor)} NOT VALID")
        schema_editor.execute(f"ALTER TABLE {table} {', '.join(changes)}")
        if new is not None:
            schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quoted}")

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._switch(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._switch(app_label, schema_editor, from_state, to_state)
