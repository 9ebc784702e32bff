#!/usr/bin/env python3
"""Checks the Grafana dashboard against what Portico really exports.

Usage: dashboard_check.py DASHBOARD_JSON METRICS_TEXT PROMTOOL [--only PREFIX] [--skip PREFIX]

- every panel has a title, a description, a datasource and fits the 24-column grid; ids unique;
- every PromQL expression parses (promtool check rules, with Grafana's variables substituted);
- every portico_* family an expression names is in the scraped exposition (names under --skip
  are not checked; with --only, just those are), so the dashboard cannot drift from the code.
Prints one line per problem and exits 1 if there is any.
"""
import json
import re
import subprocess
import sys
import tempfile

dashboard_path, metrics_path, promtool = sys.argv[1:4]
only = skip = None
args = sys.argv[4:]
while args:
    flag, value, args = args[0], args[1], args[2:]
    if flag == "--only":
        only = value
    elif flag == "--skip":
        skip = value

dashboard = json.load(open(dashboard_path))
problems = []
exprs = []
ids = set()
for panel in dashboard["panels"]:
    if panel["id"] in ids:
        problems.append("panel id %s used twice" % panel["id"])
    ids.add(panel["id"])
    grid = panel["gridPos"]
    if grid["x"] + grid["w"] > 24:
        problems.append("panel %r does not fit the grid" % panel["title"])
    if panel["type"] == "row":
        continue
    for field in ("title", "description", "datasource"):
        if not panel.get(field):
            problems.append("panel %s has no %s" % (panel["id"], field))
    for target in panel.get("targets", []):
        exprs.append((panel["title"], target["expr"]))
for variable in dashboard["templating"]["list"]:
    if variable["type"] == "query":
        match = re.match(r"label_values\((\w+)", variable["definition"])
        exprs.append(("variable " + variable["name"], match.group(1)))

# PromQL syntax: one recording rule per expression.
substituted = [
    (title, expr.replace("$__rate_interval", "5m").replace("$namespace", ".*")) for title, expr in exprs
]
rules = {"groups": [{"name": "dashboard", "rules": [
    {"record": "dashboard:expr%d" % i, "expr": expr} for i, (_, expr) in enumerate(substituted)]}]}
with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
    json.dump(rules, f)  # JSON is YAML
    f.flush()
    result = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
    if result.returncode != 0:
        problems.append("PromQL: " + (result.stdout + result.stderr).strip().replace("\n", " | "))

exported = {}
for line in open(metrics_path):
    match = re.match(r"# TYPE (\S+) (\S+)", line)
    if match:
        exported[match.group(1)] = match.group(2)
named = set()
for title, expr in exprs:
    for name in re.findall(r"\bportico_[a-z0-9_]+", expr):
        family = name
        for suffix in ("_bucket", "_count", "_sum"):
            if name.endswith(suffix) and exported.get(name[: -len(suffix)]) == "histogram":
                family = name[: -len(suffix)]
        if (only and not family.startswith(only)) or (skip and family.startswith(skip)):
            continue
        named.add(family)
        if family not in exported:
            problems.append("panel %r uses %s, which /metrics does not export" % (title, name))

for problem in problems:
    print(problem)
print("# %d expressions, %d families checked" % (len(exprs), len(named)))
sys.exit(1 if problems else 0)
