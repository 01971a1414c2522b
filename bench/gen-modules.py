#!/usr/bin/env python3
"""Writes N synthetic YANG 1.1 modules for the start-up benchmark.

Each module has typedefs, identities, a grouping, a container with a keyed
list (must, when, leafref, unique, default, if-feature) and imports the
previous module (a chain) plus ietf-yang-types and ietf-inet-types, so the
set exercises imports and cross-module references, not just parsing.
Usage: gen-modules.py N OUT_DIR   (also writes OUT_DIR/occd.toml)
"""
import os
import sys


def module(i: int) -> str:
    name = f"bench-gen-{i:03d}"
    imports = ["  import ietf-yang-types { prefix yang; }", "  import ietf-inet-types { prefix inet; }"]
    base_ref = "identity kind-base;"
    if i > 0:
        prev = f"bench-gen-{i - 1:03d}"
        imports.append(f"  import {prev} {{ prefix p; }}")
        base_ref = "identity kind-base { base p:kind-base; }"
    leaves = []
    for j in range(8):
        leaves.append(f"""
        leaf attr-{j} {{
          type percent;
          default {j};
          description "Attribute {j}.";
        }}""")
    return f"""module {name} {{
  yang-version 1.1;
  namespace "urn:occd:bench:{name}";
  prefix g{i};
{chr(10).join(imports)}
  organization "occd";
  contact "occd developers";
  description "Synthetic module {i} for the start-up benchmark.";
  revision 2026-11-24 {{ description "Generated."; }}

  feature extra {{ description "Optional part."; }}

  {base_ref}
  identity kind-a {{ base kind-base; }}
  identity kind-b {{ base kind-base; }}

  typedef percent {{
    type uint8 {{ range "0..100"; }}
    description "A percentage.";
  }}

  grouping endpoint {{
    description "An address and port.";
    leaf address {{ type inet:ip-address; description "Address."; }}
    leaf port {{ type inet:port-number; description "Port."; }}
  }}

  container top-{i} {{
    description "Top container.";
    list entry {{
      key "id";
      unique "address port";
      description "Entries.";
      leaf id {{ type string {{ length "1..32"; }} description "Key."; }}
      leaf kind {{ type identityref {{ base kind-base; }} description "Kind."; }}
      leaf peer {{
        type leafref {{ path "../../entry/id"; }}
        must "current() != ../id" {{
          error-app-tag "self-peer";
          error-message "An entry cannot peer with itself.";
        }}
        description "Peer entry.";
      }}
      leaf created {{ type yang:date-and-time; description "Creation time."; }}
      leaf extra {{ if-feature extra; type string; description "Extra."; }}
      container detail {{
        when "../kind = 'g{i}:kind-a'";
        description "Details of kind-a entries.";{''.join(leaves)}
      }}
      uses endpoint;
    }}
  }}
}}
"""


def main() -> None:
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    lines = ["[schema]", f'search-dirs = ["{os.path.abspath(out)}"]']
    for i in range(n):
        with open(os.path.join(out, f"bench-gen-{i:03d}.yang"), "w") as f:
            f.write(module(i))
        lines += ["[[schema.modules]]", f'name = "bench-gen-{i:03d}"']
    with open(os.path.join(out, "occd.toml"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
