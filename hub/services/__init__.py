"""Use cases of the hub. Each public function takes the session, the :class:`HubContext`
and the :class:`~hub.domain.roles.Caller`, performs one change in one transaction with its
audit event, and commits; refusals are audited in their own transaction and raised."""
