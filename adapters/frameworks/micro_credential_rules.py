"""Micro-credential rule sets shared by several frameworks (domain.md section 5).

The EU Annex I elements apply to every record and are checked by ``adapters.frameworks.micro_credentials``;
the rule sets here add what a framework itself requires.
"""

from __future__ import annotations

from typing import Final

from contracts.frameworks import MicroCredentialRules

__all__ = ["EU_2022", "QAA_2022"]

# EU Council Recommendation of 16 June 2022 (2022/C 243/02, CELEX 32022H0627(02)): Annex I mandatory elements,
# workload "in ECTS wherever possible"; no credit limits (status A via the Cedefop glossary, SWD(2021)367).
EU_2022: Final = MicroCredentialRules(
    rule_set="eu-2022",
    name="EU Council Recommendation on micro-credentials (2022/C 243/02)",
    source="Council Recommendation 2022/C 243/02 Annex I (Cedefop glossary; SWD(2021)367)",
    status="A",
)

# QAA Micro-credentials Characteristics Statement (30 May 2022): short, credit-bearing courses at a level of
# the national frameworks (A); no upper or lower credit limit (B, Cardiff Met technical summary). The
# "typically up to ~60 credits" figure was not found in QAA material and is deliberately not encoded.
QAA_2022: Final = MicroCredentialRules(
    rule_set="qaa-2022",
    name="QAA Micro-credentials Characteristics Statement (30 May 2022)",
    source="QAA Micro-credentials Characteristics Statement, 30 May 2022 (QAA summary page)",
    status="A",
    requires_level=True,
    credit_bearing=True,
)
