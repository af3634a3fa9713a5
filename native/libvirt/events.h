// libvirt's event loop on a thread of its own (started once, at module load, before any
// connection), and the callbacks it runs: domain events and a connection's close, handed to
// the main thread through the worker's threadsafe function.
#pragma once
#include <memory>
#include "conn-state.h"

namespace wv {

void StartEventLoop();
/** Pool thread. Registers lifecycle, reboot, device-removed and metadata-change callbacks. */
bool RegisterDomainEvents(const std::shared_ptr<ConnState>& state);
/** Pool thread. */
bool DeregisterDomainEvents(ConnState& state);
/** Pool thread, at open: the close callback (remote drivers; others never close under us). */
bool RegisterCloseCallback(const std::shared_ptr<ConnState>& state);
void UnregisterCloseCallback(ConnState& state);

}  // namespace wv
