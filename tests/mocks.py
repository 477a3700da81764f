"""The names the component and program tests use for running a Pulumi program under mocks.

Everything lives in the product (the offline ``preflight`` engine runs on the same code): the recorder, records and
runner in :mod:`china_site.engine.mocks`, the stack configuration reader in :mod:`china_site.engine.runner`. This
module only gives them their test-facing names: :func:`run_program` is :func:`~china_site.engine.mocks.run_mocked`
(a :class:`ProgramRun` of what the program registered, not preflight's artifact records).
"""

from __future__ import annotations

# Re-exported (``X as X``): what the tests import from here.
from china_site.engine.mocks import ProgramRun as ProgramRun
from china_site.engine.mocks import Recorder as Recorder
from china_site.engine.mocks import Registration as Registration
from china_site.engine.mocks import engine_urn as engine_urn
from china_site.engine.mocks import is_secret as is_secret
from china_site.engine.mocks import reveal as reveal
from china_site.engine.mocks import run_mocked
from china_site.engine.runner import project_config as project_config

run_program = run_mocked
