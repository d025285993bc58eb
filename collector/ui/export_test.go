package ui

// collectorUIMessages exposes the catalog to the external tests.
func CollectorUIMessages() map[string][3]string { return messages }
