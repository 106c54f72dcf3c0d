/// A max-heap on `improvement` with the exact sift order of libstdc++'s `push_heap` / `pop_heap`, which
/// scikit-learn's best-first builder uses: equal improvements pop in the same order as there.
struct FrontierHeap<Element> {
    private var elements: [Element] = []
    private let key: (Element) -> Double

    init(key: @escaping (Element) -> Double) { self.key = key }

    var isEmpty: Bool { elements.isEmpty }

    /// `push_back` then `push_heap`.
    /// - Complexity: O(log n)
    mutating func push(_ element: Element) {
        elements.append(element)
        siftUp(hole: elements.count - 1, top: 0, value: element)
    }

    /// `pop_heap` then `back` and `pop_back`.
    /// - Complexity: O(log n)
    mutating func pop() -> Element {
        let count = elements.count
        if count > 1 {
            // __pop_heap: the last element's value sifts down from the root; the root goes to the back.
            let value = elements[count - 1]
            elements[count - 1] = elements[0]
            adjust(hole: 0, length: count - 1, value: value)
        }
        return elements.removeLast()
    }

    /// `__push_heap`: moves `value` up from `hole` while its parent is smaller.
    private mutating func siftUp(hole: Int, top: Int, value: Element) {
        var hole = hole
        var parent = (hole - 1) / 2
        while hole > top && key(elements[parent]) < key(value) {
            elements[hole] = elements[parent]
            hole = parent
            parent = (hole - 1) / 2
        }
        elements[hole] = value
    }

    /// `__adjust_heap`: moves the hole down to a leaf along the larger children (the right one unless it is
    /// smaller than the left), then pushes `value` up from there.
    private mutating func adjust(hole start: Int, length: Int, value: Element) {
        var hole = start
        var child = start
        while child < (length - 1) / 2 {
            child = 2 * (child + 1)
            if key(elements[child]) < key(elements[child - 1]) { child -= 1 }
            elements[hole] = elements[child]
            hole = child
        }
        if length & 1 == 0 && child == (length - 2) / 2 {
            child = 2 * (child + 1)
            elements[hole] = elements[child - 1]
            hole = child - 1
        }
        siftUp(hole: hole, top: start, value: value)
    }
}
