"""The offline writer's English template set and word lists (bump TEMPLATE_VERSION on any edit)."""

from __future__ import annotations

TEMPLATE_VERSION = "en-11"
"""Part of the writer's identity: changing any template below changes what is written."""

# Slots every template may use (the writer fills all of them, so no `{...}` survives):
#   {name} the speaker   {friend} someone else present (none when alone)   {prev} the last speaker
#   {hero} the main character   {names} everyone present ("Luna and Owl")   {kind} "little snail"
#   {intro} "a tiny green snail with a yellow shell called Sam"   {place} "the dark forest"
#   {where} "in the dark forest"   {thing} "the fireflies"   {time} "night"   {today} "tonight"
#   {fear} "the rain"   {want} "enjoy puddles"   {lost} "her glow"   {sound} "Hoo-hoo!"

MOODS: dict[str, tuple[str, ...]] = {
    "worried": ("worried", "nervous", "anxious", "scared", "afraid", "frightened", "fearful",
                "panicked", "upset", "trembling", "shaky"),
    "sad": ("sad", "sadly", "crying", "tearful", "sobbing", "gloomy", "lonely", "sniffling"),
    "happy": ("happy", "happily", "excited", "joyful", "cheerful", "laughing", "giggling",
              "delighted", "proud", "proudly", "gleeful", "smiling", "beaming", "singing",
              "chuckling", "glowing", "cheerfully", "warmly", "grinning"),
    "whisper": ("whispering", "whispers", "quietly", "softly", "hushed", "secretly", "shy",
                "gently"),
    "sleepy": ("sleepy", "sleepily", "yawning", "tired", "drowsy", "dreamy", "dreamily"),
    "brave": ("brave", "bravely", "determined", "firmly", "bold", "boldly", "confident"),
    "curious": ("curious", "curiously", "wondering", "puzzled", "thoughtful", "asking"),
    "grumpy": ("grumpy", "angry", "angrily", "cross", "annoyed", "huffy", "stern"),
    "surprised": ("surprised", "amazed", "astonished", "gasping", "shocked", "wide-eyed", "awed"),
}
"""A delivery direction's words → the mood whose lines fit it."""

LINES: dict[str, tuple[str, ...]] = {
    "neutral": (
        "Look at {thing}, {friend}!",
        "What a lovely {time} {where}!",
        "I wonder what we will find {where}.",
        "Come on, {friend}! Let's go and see.",
        "Hello, {friend}! Isn't {thing} wonderful?",
        "I have a feeling something special will happen {today}.",
        "{sound} I like it here.",
        "Shall we have a look around, {friend}?",
    ),
    "worried": (
        "Oh no! What shall I do?",
        "I feel a little scared, {friend}.",
        "Oh dear. Everything looks so big {where}.",
        "Please stay close to me, {friend}.",
        "Is anyone there? Hello?",
        "What if we get lost, {friend}?",
    ),
    "sad": (
        "I feel so sad {today}.",
        "Nothing feels right, {friend}.",
        "I just want everything to be the way it was.",
        "Will you sit with me for a while, {friend}?",
    ),
    "happy": (
        "Hooray! This is the best {time} ever!",
        "I'm so happy, {friend}!",
        "Look, {friend}! Look at {thing}!",
        "We did it! We really did it!",
        "{sound} I could dance all {time} long!",
        "Thank you, {friend}. You are the best friend ever!",
    ),
    "whisper": (
        "Shh... can you hear that?",
        "Let's be very, very quiet, {friend}.",
        "Look. Over there, by {thing}.",
        "Tiptoe, tiptoe. Nobody make a sound.",
    ),
    "sleepy": (
        "Oh, I feel so sleepy.",
        "Good night, {thing_plain}. Good night, {friend}.",
        "Just one more minute, and then I'll close my eyes.",
        "What a day it has been, {friend}.",
    ),
    "brave": (
        "I can do it. I know I can!",
        "Don't be afraid, {friend}. I'm right here.",
        "Let's be brave together.",
        "One small step, and then another. Here I go!",
    ),
    "curious": (
        "What is that, {friend}?",
        "I wonder where {thing} came from.",
        "Can we take a closer look?",
        "Why is everything so quiet {where}?",
    ),
    "grumpy": (
        "Hmph! I don't like this one bit.",
        "Not now, {friend}. I'm busy being grumpy.",
        "Why does everything have to be so difficult?",
    ),
    "surprised": (
        "Oh! Oh my goodness!",
        "Wow! Did you see that, {friend}?",
        "I can't believe my eyes!",
        "{sound} What a surprise!",
    ),
    "answer": (
        "I'm not sure, {prev}. Let's find out together.",
        "Good question, {prev}! Let's go and see.",
        "Let me think, {prev}. Hmm... follow me!",
    ),
    "answer_where": (
        "Maybe it's near {thing}, {prev}.",
        "Let's look together, {prev}. Come with me!",
        "I saw something shiny by {thing}, {prev}!",
    ),
    "comfort": (
        "Don't worry, {prev}. I will help you.",
        "It's all right, {prev}. We can look together.",
        "Hold my hand, {prev}. We'll be fine.",
        "Take a deep breath, {prev}. You are not alone.",
    ),
    "cheer": (
        "Yes, {prev}! I feel it too!",
        "Me too, {prev}! Me too!",
        "Hooray for {prev}!",
    ),
    "fear": (
        "I don't like {fear}. Not one bit!",
        "I'm afraid of {fear}, {friend}.",
        "Oh no, not {fear}! What shall I do?",
    ),
    "lost": (
        "Oh no! I lost {lost}!",
        "Where did {lost} go, {friend}?",
        "Where, oh where, is {lost}?",
    ),
    "want": (
        "One day, I will {want}. You'll see!",
        "Do you think I can {want}, {friend}?",
    ),
    "learned": (
        "Look, {friend}! Now I can {want}!",
        "I did it! I can {want}!",
    ),
}
"""Dialogue lines by mood, plus reactions to the previous line and premise-driven lines."""

SAID_AS: dict[str, str] = {
    "worried": "worried", "sad": "sad", "happy": "happy", "whisper": "whispering",
    "sleepy": "sleepy", "brave": "brave", "curious": "curious", "grumpy": "grumpy",
    "surprised": "surprised", "fear": "scared", "lost": "worried", "want": "hopeful",
    "learned": "proud", "cheer": "excited", "comfort": "gentle",
}
"""The delivery direction of a line the writer invents, by its template's pool (the neutral
lines and answers have none)."""

NARRATION: dict[str, tuple[str, ...]] = {
    "opening": (
        "Once upon a time, {where}, there lived {intro}.",
        "Far away, {where}, lived {intro}.",
        "This is {hero}, who lives {where}.",
    ),
    "premise": (
        "This is a story about {premise}.",
    ),
    "home": (
        "{hero} lived {where}.",
        "Every day, {hero} played {where}.",
        "It was a bright {time} {where}, where {hero} lived.",
    ),
    "problem": (
        "But one day, something was not right.",
        "Then, one {time}, everything changed.",
        "{hero} looked around {where} and felt worried.",
    ),
    "fear": (
        "{hero} was afraid of {fear}.",
        "There was only one thing {hero} did not like: {fear}.",
    ),
    "lost": (
        "One {time}, {hero} lost {lost}.",
    ),
    "attempt": (
        "{names} set off {where}.",
        "{names} looked high and low {where}.",
        "So {names} went on, one step at a time.",
        "{names} had an idea.",
    ),
    "turning": (
        "Then something wonderful happened.",
        "Suddenly, {hero} saw {thing}.",
        "And all at once, {hero} understood.",
    ),
    "ending": (
        "And from that day on, {hero} was happy {where}.",
        "{names} smiled. It had been a wonderful {time}.",
        "And they all lived happily ever after.",
    ),
    "learned": (
        "And so {hero} learned to {want}.",
        "And that is how {hero} learned to {want}.",
    ),
    "wished": (
        "And so {hero} learned that if you keep on trying, you can {want}.",
        "And that is how {hero} learned that, one brave step at a time, you can {want}.",
    ),
    "scene": (
        "{names} came {where}.",
        "{where_cap}, {names} looked around.",
        "It was a quiet {time} {where}.",
        "{where_cap}, {thing} was waiting.",
    ),
}
"""Narration sentences by story beat ("scene": a scene of an authored story with no clear beat;
"wished": the ending's lesson when the premise wants its wish, "learned" when it learns it)."""

DETAIL = (
    "Everything around {names} looked soft and new.",
    "There was so much to see.",
    "The air was fresh and still, and {thing} seemed to smile.",
    "It was the kind of {time} when anything could happen.",
)
"""A second narration sentence for older audiences."""

TITLES: dict[str, tuple[str, ...]] = {
    "opening": ("Meet {hero}", "{hero} at Home", "A {time_cap} {where}"),
    "problem": ("{hero}'s Worry", "A Big Problem", "Something Is Wrong"),
    "attempt": ("{hero} Tries Again", "A New Idea", "Off We Go", "Looking Everywhere",
                "A Helping Hand"),
    "turning": ("A Brave Step", "Something Wonderful", "The Surprise"),
    "ending": ("Happy at Last", "Home Again", "{hero}'s Happy Day"),
}
"""Scene titles of a premise-only story, by beat."""

TIMES_OF_DAY = ("in the morning", "at midday", "in the afternoon", "in the evening", "at night")
"""The time of day moves forward through a premise story."""

PLACES: dict[str, str] = {
    "rain": "a garden in the soft rain",
    "puddle": "a garden path full of shining puddles",
    "sea": "a sandy beach by the blue sea",
    "ocean": "a sandy beach by the wide ocean",
    "beach": "a sunny beach with little waves",
    "river": "a green meadow by a sparkling river",
    "pond": "a quiet pond with lily pads",
    "lake": "the shore of a calm lake",
    "forest": "a tall forest full of whispering trees",
    "wood": "a tall forest full of whispering trees",
    "tree": "a big old tree on a green hill",
    "hill": "a round green hill",
    "mountain": "a high mountain under the clouds",
    "snow": "a snowy hill with soft white snow",
    "winter": "a snowy village in winter",
    "village": "a cosy village with red rooftops",
    "town": "a little town with bright houses",
    "garden": "a garden full of flowers",
    "flower": "a garden full of flowers",
    "farm": "a farm with a red barn and a green field",
    "sky": "the open sky above the clouds",
    "cloud": "the open sky above the clouds",
    "star": "a hilltop under bright stars",
    "moon": "a quiet village at night, under the moon",
    "cave": "a dark cave with glittering stones",
    "castle": "a castle on a hill",
    "school": "a bright classroom at school",
    "home": "a cosy room at home",
    "house": "a cosy room at home",
    "race": "a grassy field with a racing track and little flags",
    "bed": "a cosy bedroom at night",
    "sleep": "a cosy bedroom at night",
    "dark": "a cosy bedroom at night",
    "island": "a little island in the sea",
    "desert": "a sandy desert with tall dunes",
    "space": "the sky at night, full of stars",
}
"""Words of a premise → a setting that fits them."""

HOMES: dict[str, str] = {
    "snail": "a garden full of flowers", "owl": "a forest of tall trees",
    "moon": "the sky above a quiet village", "star": "the night sky",
    "fish": "the blue sea", "bird": "a big tree in a meadow", "fox": "a forest by a hill",
    "rabbit": "a meadow by a hill", "bunny": "a meadow by a hill", "bear": "a forest by a river",
    "cat": "a cosy house in a village", "kitten": "a cosy house in a village",
    "dog": "a garden by a little house", "puppy": "a garden by a little house",
    "dragon": "a cave in the mountains", "frog": "a pond with lily pads",
    "duck": "a pond with lily pads", "mouse": "a little house in a field",
    "turtle": "a sandy beach by the sea", "penguin": "a snowy beach by the sea",
    "girl": "a little house in a village", "boy": "a little house in a village",
    "child": "a little house in a village", "hedgehog": "a cosy nest under a garden hedge",
}
"""A character's kind → where it probably lives (the opening scene of a premise story)."""

ROAD = (
    "a winding path through the meadow",
    "the edge of a tall forest",
    "a hill with a view of everything",
    "a little bridge over a stream",
)
"""Places on the way, for middle scenes whose premise names no place."""

SOUNDS: dict[str, str] = {
    "owl": "Hoo-hoo!", "cat": "Mew!", "kitten": "Mew!", "dog": "Woof!", "puppy": "Woof!",
    "bird": "Tweet!", "duck": "Quack!", "frog": "Ribbit!", "bear": "Hmm.", "mouse": "Squeak!",
    "dragon": "Rawr!", "sheep": "Baa!", "cow": "Moo!", "lion": "Roar!", "pig": "Oink!",
}
"""A creature's sound, used by some templates (others say "Oh!")."""

KINDS = (
    "moon", "sun", "star", "owl", "bird", "duck", "penguin", "snail", "fox", "rabbit", "bunny",
    "cat", "kitten", "dog", "puppy", "bear", "fish", "whale", "dragon", "frog", "mouse", "turtle",
    "hedgehog", "lion", "sheep", "cow", "pig", "elephant", "butterfly", "bee", "robot",
    "girl", "boy", "child", "princess", "prince", "king", "queen", "grandma", "grandpa",
)
"""What a character may be; the one its description names first is its kind."""
