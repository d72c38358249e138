"""Action ids of every interactive element, in one place."""

FEEDBACK_HELPFUL = "answer_helpful"
FEEDBACK_NOT_HELPFUL = "answer_not_helpful"
SHARE_ANSWER = "answer_share"
SUGGESTED_QUESTION = "answer_suggested_topic"
# suffixed with the value; the wire name predates "response" and buttons already posted carry it
CHECKLIST_RESPONSE = "checklist_answer"
CHECKLIST_PAGE = "checklist_page"  # suffixed with the category
CHECKLIST_WHY = "checklist_why"
EVIDENCE_OPEN = "item_evidence_open"  # Add note / link on a checklist item
EVIDENCE_MODAL = "item_evidence_modal"
ASSIGN_OPEN = "item_assign_open"
ASSIGN_MODAL = "item_assign_modal"
KPI_OPEN = "kpi_open"
KPI_MODAL = "kpi_modal"
SIGNOFF_APPROVE = "signoff_approve"
SIGNOFF_CHANGES = "signoff_changes"
SIGNOFF_CHANGES_MODAL = "signoff_changes_modal"
SIGNOFF_REVOKE = "signoff_revoke"
REMINDER_SNOOZE = "reminder_snooze"
REMINDER_SIGNOFF_OPEN = "reminder_signoff_open"
REMINDER_SIGNOFF_MODAL = "reminder_signoff_modal"
GUIDE_READ = "guide_read"  # also guide_read_related_1 / _2: one action id per button in a message
GUIDE_PAGE = "guide_page"  # Previous / Next inside the guide modal
GUIDE_EXAMPLE = "guide_example"
GUIDE_QUESTIONS = "guide_questions"
