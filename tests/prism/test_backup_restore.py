"""README "Running in production": a pg_dump of the catalog restored into a fresh
database holds the catalog intact (lines, donors, consent, QC, submissions and
the users' tokens). Needs PostgreSQL and its client tools; skips, saying why,
elsewhere (fails under PRISM_REQUIRE_SERVICES=1)."""

import shutil
import subprocess
import uuid

import psycopg2
import pytest
from django.db import connection

from tests.celery_worker import skip_or_fail
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory, QCRecordFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _dsn(name):
    s = connection.settings_dict
    return {"dbname": name, "user": s["USER"], "password": s["PASSWORD"], "host": s["HOST"], "port": s["PORT"] or 5432}


def _cli(dsn):
    return ["-h", dsn["host"], "-p", str(dsn["port"]), "-U", dsn["user"]]


def _rows(dsn, sql):
    with psycopg2.connect(**dsn) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_a_dump_restored_into_a_fresh_database_holds_the_catalog(tmp_path, depositor):
    if connection.vendor != "postgresql":
        skip_or_fail(f"backup and restore are PostgreSQL's: DATABASE_URL is {connection.vendor}")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        skip_or_fail("pg_dump and pg_restore are not installed")
    donor = DonorFactory(code="UKBD042")
    ConsentFactory(donor=donor, codes=["DUO:0000042"])
    line = CellLineFactory(donor=donor, name="UKBi042-A")
    QCRecordFactory(line=line, test="mycoplasma", result="pass")
    source = _dsn(connection.settings_dict["NAME"])
    env = {"PGPASSWORD": source["password"] or ""}
    dump = tmp_path / "prism.dump"
    subprocess.run(["pg_dump", *_cli(source), "-Fc", "-f", str(dump), source["dbname"]], check=True, env=env)

    fresh = {**source, "dbname": f"prism_restore_{uuid.uuid4().hex[:8]}"}
    admin = psycopg2.connect(**{**source, "dbname": "postgres"})
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{fresh["dbname"]}"')
    try:
        subprocess.run(
            ["pg_restore", *_cli(fresh), "--no-owner", "-d", fresh["dbname"], str(dump)], check=True, env=env
        )
        tables = ["lines_cellline", "donors_donor", "lines_qcrecord", "authtoken_token", "django_migrations"]
        for table in tables:
            count = f"SELECT count(*) FROM {table}"  # noqa: S608 — the table names above, not input
            assert _rows(fresh, count) == _rows(source, count), table
        assert _rows(fresh, "SELECT name FROM lines_cellline") == [("UKBi042-A",)]
        assert _rows(fresh, "SELECT d.code FROM donors_donor d JOIN donors_consent c ON c.donor_id = d.id") == [
            ("UKBD042",)
        ]
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{fresh["dbname"]}" WITH (FORCE)')
        admin.close()
