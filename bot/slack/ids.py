"""Action ids of every interactive element, in one place."""

FEEDBACK_HELPFUL = "answer_helpful"
FEEDBACK_NOT_HELPFUL = "answer_not_helpful"
SHARE_ANSWER = "answer_share"
SUGGESTED_QUESTION = "answer_suggested_topic"
