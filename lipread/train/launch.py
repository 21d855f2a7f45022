"""``python -m lipread.train.launch [torchrun options] -m lipread train RECIPE.yaml ...``.

torchrun with its arguments checked first: a multi-node launch without a rendezvous endpoint is
a one-line error instead of nodes that wait for each other until a timeout (see
:func:`lipread.train.distributed.check_launch`). Everything else is torchrun's own behaviour.
"""

from __future__ import annotations

import sys

from lipread.errors import LipreadError
from lipread.train.distributed import launch


def main(argv: list[str] | None = None) -> int:
    try:
        return launch(list(sys.argv[1:] if argv is None else argv))
    except LipreadError as exc:
        print(f"lipread: error: {exc.message}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
