"""Writers of an analysis: the report schema (JSON), CSV tables and the HTML page.
"""

from ._writers import (  # noqa: F401
    report_dict,
    write_json,
    write_csv,
    write_html,
    write_all,
    jsonable,
    SCHEMA,
)

__all__ = ['report_dict', 'write_json', 'write_csv', 'write_html', 'write_all', 'jsonable', 'SCHEMA']
