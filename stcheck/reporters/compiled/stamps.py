"""What the modules beside this one were compiled from: generated, do not edit."""

JINJA2_VERSION = "3.1.6"
SOURCES = {
    "report.html.j2": "b8ed214575aaa98f02e4a3748a7b95c6e5d696fcf76df30cd631642f58201796",
    "report_tenant.html.j2": "c3be395134db258dc515349b685f4d5e243d5a3765fdbd8fecaeefcbcc709a80",
}
