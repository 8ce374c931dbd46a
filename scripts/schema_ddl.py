"""Print the DDL of the current schema.py for one dialect (sqlite or postgresql).

Used when writing a new migration: freeze its output into openclaw_telemetry/sql/.
"""

import sys

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from openclaw_telemetry.schema import metadata

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


def main() -> None:
    dialect = DIALECTS[sys.argv[1]]
    for table in metadata.sorted_tables:
        print(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            print(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")


if __name__ == "__main__":
    main()
