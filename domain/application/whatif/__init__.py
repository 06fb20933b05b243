"""Policy what-if: which past decisions a draft policy would have decided otherwise.

Pure: `what_if(histories, draft)` re-decides every past command that depended on policy with
the domain's own policy gate and deciders, fed the command as it was (rebuilt from the events it
wrote), the aggregate as it was just before it (folded from its stream) and the draft rules
under the policy version it was decided under. Nothing is written; reading the history is the
caller's (`caseledger.adapters.audit.whatif`).
"""

from caseledger.domain.application.whatif.document import WhatIfReport, document
from caseledger.domain.application.whatif.report import TenantHistory, WhatIf, what_if

__all__ = ["TenantHistory", "WhatIf", "WhatIfReport", "document", "what_if"]
