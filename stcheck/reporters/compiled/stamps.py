"""What the modules beside this one were compiled from: generated, do not edit."""

JINJA2_VERSION = "3.1.6"
SOURCES = {
    "report.html.j2": "04a6090102d1d763bbb3cb3e58db4568ea807abb876cf81ecc3dfe1e04602fa0",
    "report_tenant.html.j2": "d358f747bfaeaf2a80b5d79f7372ba8c2b30717d0530ae5ae84e2c82daeba769",
}
