"""
moto_server, each request handled whole before the next: how tests and `npm run e2e:aws` start moto.

AWS makes every call atomic: DynamoDB checks a ConditionExpression and writes in one step per item, EC2 answers
two RunInstances of one ClientToken with one launch. moto_server is a threaded server whose backends check and
write without a lock (moto/dynamodb/models/table.py put_item reads the current item, tests the condition, then
stores), so two conditional writes racing for one item can both succeed there: two reconciles can both take a
cluster's lease, concurrent counter adds can lose one. This keeps moto's code and answers and only runs one
request at a time, the guarantee the store's contract and the workflows rely on.

Usage is moto_server's: python moto-server-atomic.py -H 127.0.0.1 -p PORT
"""

import sys
import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_lock = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__


def _one_at_a_time(self, environ, start_response):
    # The response is read out inside the lock: a lazily produced body would otherwise run after it.
    with _lock:
        return list(_dispatch(self, environ, start_response))


DomainDispatcherApplication.__call__ = _one_at_a_time

if __name__ == "__main__":
    sys.exit(server.main())
