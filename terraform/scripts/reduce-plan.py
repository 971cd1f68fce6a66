"""Reduces `terraform show -json` output to what the approval needs.

Keeps, per resource change, its address, mode, type, name, index and
change.actions. Drops every attribute value, so plan.json cannot leak a
secret or a token that a resource or data source holds.

    python3 reduce-plan.py FULL.json OUT.json
"""
import json
import sys

KEEP = ("address", "module_address", "mode", "type", "name", "index", "action_reason")


def reduce(plan):
    return {
        "format_version": plan.get("format_version"),
        "terraform_version": plan.get("terraform_version"),
        "resource_changes": [
            {**{k: rc[k] for k in KEEP if k in rc}, "change": {"actions": rc["change"]["actions"]}}
            for rc in plan.get("resource_changes", [])
        ],
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    with open(sys.argv[2], "w") as f:
        json.dump(reduce(plan), f, indent=1)
